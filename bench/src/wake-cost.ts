// `npm run bench -- wake-cost`: what one loopback round trip between two
// processes costs on this machine, back to back, after both slept, and after
// the sender was busy (its partner's CPU idle meanwhile). Every hop of the
// service's synchronous chain is such a round trip or half of one, and along
// the chain the work moves from process to process: the third figure is what
// most of its hops pay. See README.md, "A synchronous call, stage by stage".
import { fork } from "node:child_process";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { parseArgs } from "node:util";
import { percentile } from "./stats.ts";

const { values: flags } = parseArgs({ options: { rounds: { type: "string", default: "1000" }, "child-echo": { type: "boolean", default: false } } });

/** The partner process: echoes every byte straight back. */
function runEcho(): void {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on("data", (data) => socket.write(data));
  });
  server.listen(0, "127.0.0.1", () => process.send?.((server.address() as AddressInfo).port));
}

function roundTripMicros(socket: Socket): Promise<number> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    socket.once("data", () => resolve(Number(process.hrtime.bigint() - started) / 1000));
    socket.write("x");
  });
}

function spin(micros: number): void {
  const until = process.hrtime.bigint() + BigInt(micros * 1000);
  while (process.hrtime.bigint() < until);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const partner = fork(new URL(import.meta.url).pathname, ["--child-echo"]);
  try {
    const port = await new Promise<number>((resolve) => partner.once("message", (message) => resolve(Number(message))));
    const socket = connect(port, "127.0.0.1");
    socket.setNoDelay(true);
    await new Promise((resolve) => socket.once("connect", resolve));
    const rounds = Number(flags.rounds);
    const cases: Array<[string, () => Promise<void> | void]> = [
      ["back to back", () => {}],
      ["after both slept 2 ms", () => sleep(2)],
      ["after the sender was busy 2 ms", () => spin(2000)],
    ];
    console.log(`loopback round trip of one byte between two processes, ${rounds} each (µs)`);
    for (const [label, before] of cases) {
      const samples: number[] = [];
      for (let i = 0; i < rounds; i++) {
        await before();
        samples.push(await roundTripMicros(socket));
      }
      samples.sort((a, b) => a - b);
      console.log(`  ${label.padEnd(34)} p50 ${percentile(samples, 0.5).toFixed(0).padStart(5)}   p90 ${percentile(samples, 0.9).toFixed(0).padStart(5)}`);
    }
    socket.destroy();
  } finally {
    partner.kill();
  }
}

if (flags["child-echo"]) runEcho();
else await main();
