import { lookup } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

/**
 * Addresses a webhook must never reach unless the operator allows it:
 * loopback, private, link-local (cloud metadata lives there), carrier-grade
 * NAT, multicast and reserved ranges, in IPv4 and IPv6. IPv6 forms that
 * carry an IPv4 address (mapped `::ffff:a.b.c.d`, translated
 * `::ffff:0:a.b.c.d`, the deprecated compatible `::a.b.c.d`) are checked as
 * that IPv4 address, whichever way they are written (`::7f00:1`).
 */
function privateRanges(): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of [
    ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12],
    ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["198.51.100.0", 24], ["203.0.113.0", 24],
    ["224.0.0.0", 4], ["240.0.0.0", 4],
  ] as const) {
    list.addSubnet(network, prefix, "ipv4");
  }
  for (const [network, prefix] of [["::", 128], ["::1", 128], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8], ["64:ff9b::", 96], ["2001:db8::", 32]] as const) {
    list.addSubnet(network, prefix, "ipv6");
  }
  return list;
}
const PRIVATE = privateRanges();

/** The eight 16-bit groups of a valid IPv6 address, a dotted IPv4 tail included. */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((group) => parseInt(group, 16)));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  return [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/** The IPv4 address an IPv6 address carries in its last 32 bits (mapped, translated or compatible form), if any. */
function embeddedIpv4(address: string): string | undefined {
  const groups = ipv6Groups(address);
  const zeros = (from: number, to: number) => groups.slice(from, to).every((group) => group === 0);
  const mapped = zeros(0, 5) && groups[5] === 0xffff;
  const translated = zeros(0, 4) && groups[4] === 0xffff && groups[5] === 0;
  const compatible = zeros(0, 6);
  if (!mapped && !translated && !compatible) return undefined;
  const [high = 0, low = 0] = groups.slice(6);
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 4) return PRIVATE.check(address, "ipv4");
  const ipv4 = embeddedIpv4(address);
  if (ipv4 !== undefined) return PRIVATE.check(ipv4, "ipv4");
  return PRIVATE.check(address, "ipv6");
}

export class BlockedAddressError extends Error {
  override name = "BlockedAddressError";
}

/**
 * Connections to an IP literal never consult the lookup below, so literals
 * are checked here, before the request is made.
 */
export function assertPublicUrl(url: string, allowPrivate: boolean): void {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  if (!allowPrivate && isIP(host) !== 0 && isPrivateAddress(host)) {
    throw new BlockedAddressError(`webhook target ${host} is a private or loopback address`);
  }
}

/**
 * A DNS lookup for outgoing webhook connections that refuses private
 * addresses. It runs when the connection is made, so a name that resolves to
 * a public address at submission and a private one at delivery (DNS
 * rebinding) is still refused.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, "", 0);
      const list = addresses as Array<{ address: string; family: number }>;
      const allowed = allowPrivate ? list : list.filter((entry) => !isPrivateAddress(entry.address));
      if (allowed.length === 0) {
        return callback(new BlockedAddressError(`webhook host ${hostname} resolves only to private or loopback addresses`), "", 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof allowed) => void)(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}
