// CLI entry: the only module with side effects. Configured by SIM_* variables (see config.ts).
import { simulatorConfigFromEnv, SimulatorEnvError, type SimulatorEnvConfig } from "./config.js";
import { createSimulator } from "./server.js";

function loadConfig(): SimulatorEnvConfig {
  try {
    return simulatorConfigFromEnv(process.env);
  } catch (error) {
    if (error instanceof SimulatorEnvError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const simulator = createSimulator(config.options);
  const { url } = await simulator.listen(config.port, config.host);
  // Exactly one line on stdout: launchers wait for it and read the URL from it.
  process.stdout.write(`${JSON.stringify({ event: "listening", url })}\n`);

  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    simulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`${JSON.stringify({ event: "close_failed", error: String(error) })}\n`);
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`${JSON.stringify({ event: "start_failed", error: String(error) })}\n`);
  process.exit(1);
});
