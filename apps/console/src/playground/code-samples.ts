/**
 * The Playground's request as code a caller can paste: curl (exactly what
 * the Playground sends, `Prefer: respond-async` included), and the `openai`
 * SDKs for Python and JavaScript (the same body; the SDKs wait for the
 * images instead of polling). The key is never filled in: it is read from
 * the environment.
 */
export type CodeLanguage = "curl" | "python" | "javascript";

export const CODE_LANGUAGES: Array<{ id: CodeLanguage; label: string }> = [
  { id: "curl", label: "curl" },
  { id: "python", label: "Python (openai)" },
  { id: "javascript", label: "JavaScript (openai)" },
];

/** The fields the SDKs name as arguments; anything else is a model parameter. */
const SDK_FIELDS = new Set(["model", "prompt", "n", "size", "response_format", "user"]);

const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

function pythonValue(value: unknown): string {
  if (typeof value === "boolean") return value ? "True" : "False";
  // JSON's strings and numbers are valid Python literals.
  return JSON.stringify(value);
}

export function curlSample(baseUrl: string, body: Record<string, unknown>): string {
  return [
    `curl -sS ${baseUrl}/images/generations \\`,
    `  -H "Authorization: Bearer $IMAGEGEN_API_KEY" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -H "Prefer: respond-async" \\`,
    `  -d ${shellQuote(JSON.stringify(body))}`,
  ].join("\n");
}

export function pythonSample(baseUrl: string, body: Record<string, unknown>): string {
  const entries = Object.entries(body);
  const named = entries.filter(([name]) => SDK_FIELDS.has(name)).map(([name, value]) => `    ${name}=${pythonValue(value)},`);
  const extra = entries.filter(([name]) => !SDK_FIELDS.has(name));
  const extraBody = extra.length ? [`    extra_body={${extra.map(([name, value]) => `${JSON.stringify(name)}: ${pythonValue(value)}`).join(", ")}},`] : [];
  return [
    "import os",
    "from openai import OpenAI",
    "",
    `client = OpenAI(base_url=${JSON.stringify(baseUrl)}, api_key=os.environ["IMAGEGEN_API_KEY"])`,
    "result = client.images.generate(",
    ...named,
    ...extraBody,
    ")",
    "print([image.url or image.b64_json[:32] for image in result.data])",
  ].join("\n");
}

export function javascriptSample(baseUrl: string, body: Record<string, unknown>): string {
  const fields = Object.entries(body).map(([name, value]) => `  ${/^[a-z_][a-z0-9_]*$/i.test(name) ? name : JSON.stringify(name)}: ${JSON.stringify(value)},`);
  return [
    'import OpenAI from "openai";',
    "",
    `const client = new OpenAI({ baseURL: ${JSON.stringify(baseUrl)}, apiKey: process.env.IMAGEGEN_API_KEY });`,
    "const result = await client.images.generate({",
    ...fields,
    "});",
    "console.log(result.data.map((image) => image.url ?? image.b64_json?.slice(0, 32)));",
  ].join("\n");
}

export function codeSample(language: CodeLanguage, baseUrl: string, body: Record<string, unknown>): string {
  switch (language) {
    case "curl":
      return curlSample(baseUrl, body);
    case "python":
      return pythonSample(baseUrl, body);
    case "javascript":
      return javascriptSample(baseUrl, body);
  }
}
