// An MCP answer is sent as one string only when it is complete: a JSON answer, or an event stream
// that ends right after its first event. A stream that goes on (keep-alives while a slow call runs,
// then the answer) is passed on whole and in order, its first chunk not held back for the rest.
import { describe, expect, it } from 'vitest';
import { wholeBody } from '../../src/mcp/whole-body.js';

const SSE = { 'content-type': 'text/event-stream' };
const bytes = (text: string) => new TextEncoder().encode(text);

/** A stream that gives `chunks`, each after its delay (ms), then ends (or fails with `error`). */
function timedStream(chunks: [string, number][], error?: Error): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const item = chunks[i++];
      if (!item) return error ? controller.error(error) : controller.close();
      await new Promise((r) => setTimeout(r, item[1]));
      controller.enqueue(bytes(item[0]));
    },
  });
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of stream) out.push(new TextDecoder().decode(chunk));
  return out;
}

describe('wholeBody', () => {
  it('passes on an event stream that fails before its first chunk as a failing stream, not a thrown error', async () => {
    const r = await wholeBody(new Response(timedStream([], new Error('store went away')), { headers: SSE }));
    expect(r.text).toBeUndefined();
    await expect(readAll(r.stream!)).rejects.toThrow('store went away');
  });

  it('reads a JSON answer as text', async () => {
    const r = await wholeBody(new Response('{"jsonrpc":"2.0","id":1,"result":{}}', { headers: { 'content-type': 'application/json' } }));
    expect(r).toEqual({ text: '{"jsonrpc":"2.0","id":1,"result":{}}', stream: null });
  });

  it('reads an event stream that ends after its first event as text', async () => {
    const event = 'event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n';
    const r = await wholeBody(new Response(timedStream([[event, 0]]), { headers: SSE }));
    expect(r).toEqual({ text: event, stream: null });
  });

  it('passes on a stream that goes on, every chunk in order, the first one before the rest exists', async () => {
    // The answer is produced only once the reader has the keep-alive: holding the keep-alive back
    // until the answer came would never end.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (i++ === 0) return controller.enqueue(bytes(': keep-alive\n\n'));
        if (i === 2) {
          await released;
          return controller.enqueue(bytes('event: message\ndata: {"id":1}\n\n'));
        }
        controller.close();
      },
    });
    const r = await wholeBody(new Response(body, { headers: SSE }));
    expect(r.text).toBeUndefined();
    const reader = r.stream!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe(': keep-alive\n\n');
    release();
    reader.releaseLock();
    expect(await readAll(r.stream!)).toEqual(['event: message\ndata: {"id":1}\n\n']);
  });

  it('keeps two events that arrive together as a stream', async () => {
    const r = await wholeBody(
      new Response(
        timedStream([
          ['event: message\ndata: {"method":"notifications/progress"}\n\n', 0],
          ['event: message\ndata: {"id":1}\n\n', 0],
        ]),
        { headers: SSE },
      ),
    );
    expect(await readAll(r.stream!)).toEqual([
      'event: message\ndata: {"method":"notifications/progress"}\n\n',
      'event: message\ndata: {"id":1}\n\n',
    ]);
  });

  it('lets a stream that fails after its first chunk fail for the reader', async () => {
    const r = await wholeBody(new Response(timedStream([['event: message\n', 0]], new Error('gone')), { headers: SSE }));
    await expect(readAll(r.stream!)).rejects.toThrow('gone');
  });

  it('leaves other bodies and no body alone', async () => {
    const body = timedStream([['a', 0]]);
    expect((await wholeBody(new Response(body, { headers: { 'content-type': 'text/plain' } }))).stream).toBe(body);
    expect(await wholeBody(new Response(null, { status: 202 }))).toEqual({ stream: null });
  });
});
