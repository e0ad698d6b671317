import { describe, expect, it } from "vitest";
import { SimulatorEnvError, simulatorConfigFromEnv, simulatorOptionsFromEnv, simulatorOptionsSchema } from "./config.js";

describe("simulatorOptionsSchema", () => {
  it("fills every default from an empty object", () => {
    const options = simulatorOptionsSchema.parse({});
    expect(options).toMatchObject({ latencyMs: 0, maxConcurrency: 0, noise: 16, compressionLevel: 1, revisedPrompt: true, seed: 0 });
    expect(options.apiKey).toBeUndefined();
    expect(options.faults).toEqual({
      errorRate: 0,
      rateLimitRate: 0,
      retryAfterSeconds: 1,
      hangRate: 0,
      resetRate: 0,
      garbageRate: 0,
      failFirstAttemptsPerPrompt: 0,
      failStatus: 503,
    });
  });

  it("accepts partial faults and rejects out-of-range values", () => {
    expect(simulatorOptionsSchema.parse({ faults: { errorRate: 0.5 } }).faults.failStatus).toBe(503);
    expect(simulatorOptionsSchema.safeParse({ faults: { errorRate: 1.5 } }).success).toBe(false);
    expect(simulatorOptionsSchema.safeParse({ noise: 256 }).success).toBe(false);
    expect(simulatorOptionsSchema.safeParse({ latencyMS: 5 }).success).toBe(false);
  });
});

describe("simulatorConfigFromEnv", () => {
  it("defaults to 127.0.0.1:9100 with default options", () => {
    const config = simulatorConfigFromEnv({});
    expect(config.port).toBe(9100);
    expect(config.host).toBe("127.0.0.1");
    expect(config.options).toEqual(simulatorOptionsSchema.parse({}));
  });

  it("coerces every variable", () => {
    const config = simulatorConfigFromEnv({
      SIM_PORT: "0",
      SIM_HOST: "0.0.0.0",
      SIM_API_KEY: "secret",
      SIM_LATENCY_MS: "50",
      SIM_LATENCY_JITTER_MS: "10",
      SIM_LATENCY_PER_IMAGE_MS: "5",
      SIM_MAX_CONCURRENCY: "4",
      SIM_NOISE: "2",
      SIM_COMPRESSION_LEVEL: "6",
      SIM_REVISED_PROMPT: "false",
      SIM_ERROR_RATE: "0.1",
      SIM_RATE_LIMIT_RATE: "0.2",
      SIM_RETRY_AFTER_SECONDS: "3",
      SIM_HANG_RATE: "0.01",
      SIM_RESET_RATE: "0.02",
      SIM_GARBAGE_RATE: "0.03",
      SIM_FAIL_FIRST_ATTEMPTS: "2",
      SIM_FAIL_STATUS: "502",
      SIM_SEED: "77",
      SIM_IMAGE_FORMAT: "webp",
    });
    expect(config).toEqual({
      port: 0,
      host: "0.0.0.0",
      options: {
        apiKey: "secret",
        latencyMs: 50,
        latencyJitterMs: 10,
        latencyPerImageMs: 5,
        maxConcurrency: 4,
        noise: 2,
        compressionLevel: 6,
        revisedPrompt: false,
        imageCacheMaxBytes: 256 * 1024 * 1024,
        seed: 77,
        imageFormat: "webp",
        faults: {
          errorRate: 0.1,
          rateLimitRate: 0.2,
          retryAfterSeconds: 3,
          hangRate: 0.01,
          resetRate: 0.02,
          garbageRate: 0.03,
          failFirstAttemptsPerPrompt: 2,
          failStatus: 502,
        },
      },
    });
  });

  it("treats empty variables as unset", () => {
    expect(simulatorOptionsFromEnv({ SIM_LATENCY_MS: "", SIM_API_KEY: "" })).toEqual(simulatorOptionsSchema.parse({}));
  });

  it("names every bad variable in one error", () => {
    const attempt = () => simulatorConfigFromEnv({ SIM_ERROR_RATE: "2", SIM_LATENCY_MS: "soon", SIM_REVISED_PROMPT: "maybe" });
    expect(attempt).toThrow(SimulatorEnvError);
    expect(attempt).toThrow(/SIM_ERROR_RATE[\s\S]*SIM_LATENCY_MS|SIM_LATENCY_MS[\s\S]*SIM_ERROR_RATE/);
    expect(attempt).toThrow(/SIM_REVISED_PROMPT/);
  });
});
