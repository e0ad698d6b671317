/** One server-sent event: its `event:` name (undefined when absent) and its joined `data:` lines. */
export interface ServerSentEvent {
  event: string | undefined;
  data: string;
}

/**
 * Splits a text/event-stream body into events (the WHATWG format: blank
 * line ends an event, `data:` lines join with newlines, comments ignored).
 * Lines are bounded by what the HTTP layer lets through (maxResponseBytes).
 */
export async function* readServerSentEvents(body: AsyncIterable<Buffer>): AsyncGenerator<ServerSentEvent> {
  let buffered = "";
  let event: string | undefined;
  let data: string[] = [];
  const decoder = new TextDecoder();
  const take = (line: string): ServerSentEvent | undefined => {
    if (line === "") {
      const done = data.length > 0 ? { event, data: data.join("\n") } : undefined;
      event = undefined;
      data = [];
      return done;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    return undefined;
  };
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.search(/\r\n|\n|\r/)) !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + (buffered.startsWith("\r\n", newline) ? 2 : 1));
      const done = take(line);
      if (done) yield done;
    }
  }
  const last = take(buffered);
  if (last) yield last;
  const tail = take("");
  if (tail) yield tail;
}
