import { pino, type DestinationStream, type Logger, type LoggerOptions } from "pino";

export type { Logger };

/**
 * JSON logs for every process. Credentials are redacted wherever they could
 * appear, so a misplaced `log.info({ headers })` cannot leak a key.
 */
export function createLogger(options: { name: string; level: string; /** Default stdout; tests collect lines. */ destination?: DestinationStream }): Logger {
  const config: LoggerOptions = {
    name: options.name,
    level: options.level,
    base: { service: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        "req.headers.authorization",
        "headers.authorization",
        "authorization",
        "apiKey",
        "*.apiKey",
        "secret",
        "*.secret",
      ],
      censor: "[redacted]",
    },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}
