// The proxy's request URL (src/serve/request-target.ts) is the WHATWG URL parser's, with or
// without the parser: every case below is compared with URL itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import { requestTarget } from "../../src/serve/request-target.js";

const HOSTS = ["127.0.0.1:8000", "localhost", "localhost:80", "example.com:65535", "EXAMPLE.com", "127.1", "0x7f.0.0.1", "1.2.3.4.5", "a.b-c.d:08080",
  "xn--nxasmq6b.com", "[::1]:8000", "h:65536", "h:0", "256.1.1.1", "my_host", "a..b", "h."];
const TARGETS = ["/", "/a/b", "/a/b?x=1&y=%20z", "/a?", "/a?b?c", "/a/./b", "/a/../b", "/.well-known/x", "/a/%2e%2e/b", "/a%20b", "/a b", "/é",
  "//evil.com/x", "/a\\b", "/a#frag", "/a?q='x'", "/a?q=<x>", "/a|b", "/~user/(1),;=:@!$&*+", "*", "http://other/x"];

test("a request's pathname and URL are the URL parser's, for plain and unusual hosts and targets", () => {
  for (const host of HOSTS) {
    for (const target of TARGETS) {
      let url: URL;
      try {
        url = new URL(target, `http://${host}`);
      } catch {
        assert.throws(() => requestTarget(target, host), TypeError, `${host} ${target}`);
        continue;
      }
      const got = requestTarget(target, host);
      assert.equal(got.pathname, url.pathname, `pathname of ${target} at ${host}`);
      const stripped = got.pathname.slice(0, 2) || "/";
      url.pathname = stripped;
      assert.equal(got.withPathname(stripped), url.href, `href of ${target} at ${host}`);
    }
  }
});
