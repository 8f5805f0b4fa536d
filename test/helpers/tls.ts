// A self-signed certificate for 127.0.0.1, made with openssl, for the TLS tests.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface TestCert {
  dir: string;
  certPath: string;
  keyPath: string;
  cert: Buffer;
  key: Buffer;
}

/** Undefined where openssl is not installed (the caller skips its test). */
export function selfSignedCert(): TestCert | undefined {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tsray-tls-"));
  const certPath = path.join(dir, "cert.pem");
  const keyPath = path.join(dir, "key.pem");
  try {
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
      "-keyout", keyPath, "-out", certPath], { stdio: "ignore" });
  } catch {
    return undefined;
  }
  return { dir, certPath, keyPath, cert: readFileSync(certPath), key: readFileSync(keyPath) };
}
