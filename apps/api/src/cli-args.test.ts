import { describe, expect, it } from "vitest";
import { CliUsageError, parseCliArgs } from "./cli-args.js";

describe("the CLI's command line", () => {
  it("builds the admin API's body from flags", () => {
    expect(parseCliArgs(["workspaces", "create", "--id", "acme", "--models", "sdxl, turbo", "--requests-per-minute", "60"])).toEqual({
      command: "workspaces create",
      body: { id: "acme", models: ["sdxl", "turbo"], limits: { requests_per_minute: 60 } },
    });
    expect(parseCliArgs(["keys", "create", "--workspace", "default", "--name", "ci", "--expires-in-seconds", "3600"])).toEqual({
      command: "keys create",
      workspace: "default",
      body: { name: "ci", expires_in_seconds: 3600 },
    });
  });

  it("takes a JSON body, with flags overriding its fields", () => {
    expect(parseCliArgs(["workspaces", "update", "acme", "--json", '{"name":"Acme","limits":{"images_per_day":5}}', "--images-per-day", "default"])).toEqual({
      command: "workspaces update",
      id: "acme",
      body: { name: "Acme", limits: { images_per_day: null } },
    });
  });

  it("takes a workspace's fair-share weight, and refuses one that is not a positive number", () => {
    expect(parseCliArgs(["workspaces", "update", "acme", "--weight", "2.5"])).toEqual({ command: "workspaces update", id: "acme", body: { weight: 2.5 } });
    expect(() => parseCliArgs(["workspaces", "update", "acme", "--weight", "three"])).toThrow(CliUsageError);
    expect(() => parseCliArgs(["workspaces", "update", "acme", "--weight", "-1"])).toThrow();
  });

  it("names rotate and revoke targets by key id", () => {
    expect(parseCliArgs(["keys", "rotate", "abcdefghijkl", "--grace-seconds", "0"])).toEqual({
      command: "keys rotate",
      id: "abcdefghijkl",
      body: { grace_seconds: 0 },
    });
    expect(parseCliArgs(["keys", "revoke", "abcdefghijkl"])).toEqual({ command: "keys revoke", id: "abcdefghijkl" });
  });

  it.each([
    [["keys"]],
    [["keys", "create", "--name", "ci"]],
    [["keys", "revoke"]],
    [["workspaces", "create", "--requests-per-minute", "many"]],
    [["workspaces", "create", "--json", "[1]"]],
  ])("refuses %j with a usage error", (argv) => {
    expect(() => parseCliArgs(argv)).toThrow(CliUsageError);
  });
});
