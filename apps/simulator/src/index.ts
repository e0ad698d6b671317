export {
  faultsPatchSchema,
  faultsSchema,
  SimulatorEnvError,
  simulatorConfigFromEnv,
  simulatorOptionsFromEnv,
  simulatorOptionsSchema,
  type FaultOptions,
  type FaultsPatch,
  type SimulatorEnvConfig,
  type SimulatorOptions,
  type SimulatorOptionsInput,
} from "./config.js";
export { createSimulator, type Simulator } from "./server.js";
export type { SimulatorStats } from "./stats.js";
export { encodePng } from "./png.js";
export { renderImage, type RenderParams } from "./render.js";
