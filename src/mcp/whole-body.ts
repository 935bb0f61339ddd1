// An MCP answer that is already complete is sent as one string (src/mcp/http.ts): one socket write,
// headers and body together, instead of a piped stream's several.

/**
 * The body of `response` as text when it is already complete: a JSON answer, or an event stream
 * whose end follows its first chunk within one turn of the event loop. Otherwise `stream` goes on
 * where reading stopped. The headers wait for an event stream's first chunk; after it nothing is
 * held back longer than that turn (a stream that keeps going, such as one sending keep-alives
 * while a slow call runs, is passed on as it comes), and a stream that fails before its first
 * chunk is passed on failing, as piping it would have.
 */
export async function wholeBody(response: Response): Promise<{ text?: string; stream: ReadableStream<Uint8Array> | null }> {
  const body = response.body;
  if (body === null) return { stream: null };
  const type = response.headers.get('content-type') ?? '';
  if (type.startsWith('application/json')) return { text: await response.text(), stream: null };
  if (!type.startsWith('text/event-stream')) return { stream: body };
  const reader = body.getReader();
  let first: Awaited<ReturnType<typeof reader.read>>;
  try {
    first = await reader.read();
  } catch (err) {
    return { stream: new ReadableStream<Uint8Array>({ start: (controller) => controller.error(err) }) };
  }
  if (first.done) return { text: '', stream: null };
  const next = reader.read();
  const settled = await Promise.race([
    next.then(
      () => true,
      () => true,
    ),
    new Promise<false>((resolve) => setImmediate(() => resolve(false))),
  ]);
  // A failed read is left for the stream to report, as piping it would have.
  const second = settled ? await next.catch(() => undefined) : undefined;
  if (second?.done) return { text: new TextDecoder().decode(first.value), stream: null };
  // Still going: the chunks read so far, then the rest as it comes.
  const held: ReturnType<typeof reader.read>[] = [Promise.resolve(first), next];
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await (held.shift() ?? reader.read());
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { stream };
}
