import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'

export interface SelfSignedCertificate {
  /** The certificate, PEM: also the CA file that a client must trust. */
  certFile: string
  /** Its private key, PEM, unencrypted. */
  keyFile: string
}

/**
 * A fresh self-signed certificate for 127.0.0.1 and localhost, made with openssl (P-256,
 * one day), in a directory deleted when the test ends.
 */
export function selfSignedCertificate (): SelfSignedCertificate {
  const directory = mkdtempSync(join(tmpdir(), 'tls-'))
  onTestFinished(() => rmSync(directory, { recursive: true, force: true }))
  const certFile = join(directory, 'cert.pem')
  const keyFile = join(directory, 'key.pem')
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', keyFile, '-out', certFile
  ], { stdio: 'ignore' })
  return { certFile, keyFile }
}
