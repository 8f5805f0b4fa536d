/**
 * An HTTP request's URL, as the WHATWG URL parser makes it from the request target and the Host
 * header, without the parser in the common case: a host that is a plain lowercase name or a
 * dotted IPv4 address, and a path and query of characters the parser leaves as they are (no
 * dot segments, no percent-escapes in the path). Those are already in the parser's normal form,
 * so its result is the input itself; the parser, a few microseconds a request, is kept for the
 * rest.
 */
export interface RequestTarget {
  /** The URL's pathname, as URL.pathname gives it. */
  pathname: string;
  /** The whole URL with `pathname` in place of its own (the query kept), as URL.href gives it. */
  withPathname(pathname: string): string;
}

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
/** Names whose labels start with a letter (never read as IPv4, no punycode), or a canonical IPv4 address; a port without a leading zero. */
const PLAIN_HOST = new RegExp(`^(?:[a-z][a-z0-9-]*(?:\\.[a-z][a-z0-9-]*)*|${OCTET}(?:\\.${OCTET}){3})(?::([1-9]\\d{0,4}))?$`);
/** A path, then perhaps a query, of characters kept as they are. */
const PLAIN_TARGET = /^\/[A-Za-z0-9\-._~!$&()*+,;=:@/]*(\?[A-Za-z0-9\-._~!$&()*+,;=:@/?%]*)?$/;

/** The target of a request for `host`; throws TypeError (as URL does) when they make no URL. */
export function requestTarget(target: string, host: string): RequestTarget {
  const plainHost = PLAIN_HOST.exec(host);
  const port = plainHost?.[1];
  // "//x" would name another host; "/." may start a dot segment.
  const plain = plainHost !== null && !host.includes("xn--") && (port === undefined || (Number(port) <= 65535 && port !== "80")) &&
    PLAIN_TARGET.test(target) && !target.startsWith("//") && !target.includes("/.");
  if (!plain) {
    const url = new URL(target, `http://${host}`);
    return {
      pathname: url.pathname,
      withPathname(pathname) {
        url.pathname = pathname;
        return url.href;
      },
    };
  }
  const query = target.indexOf("?");
  const pathname = query < 0 ? target : target.slice(0, query);
  const search = query < 0 ? "" : target.slice(query);
  return { pathname, withPathname: (p) => `http://${host}${p}${search}` };
}
