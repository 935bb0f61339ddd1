// The size in tokens of what an LLM is sent. No tokenizer ships with viewgate (docs/deps.md): this is
// the common estimate of one token per four characters of the JSON text, which is what the
// simulator reports as `toolsTokens` and says it is (docs/console.md).
export function estimateTokens(text: string): number {
  return Math.ceil([...text].length / 4);
}
