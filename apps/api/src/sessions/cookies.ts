/**
 * The console's session cookie: HttpOnly (scripts never see it), SameSite=Strict
 * (other sites' pages never send it), Path=/, and Secure whenever the request
 * came over TLS (directly or through a trusted proxy), so it never travels in
 * clear text after a TLS sign-in.
 */

/** The value of one cookie from a Cookie header; undefined when absent. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const index = part.indexOf("=");
    if (index < 0) continue;
    if (part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

export function sessionCookie(name: string, value: string, options: { maxAgeSeconds: number; secure: boolean }): string {
  return [
    `${name}=${value}`,
    "Path=/",
    `Max-Age=${options.maxAgeSeconds}`,
    "HttpOnly",
    "SameSite=Strict",
    ...(options.secure ? ["Secure"] : []),
  ].join("; ");
}

/** Tells the browser to forget the cookie. */
export function clearedSessionCookie(name: string, secure: boolean): string {
  return sessionCookie(name, "", { maxAgeSeconds: 0, secure });
}
