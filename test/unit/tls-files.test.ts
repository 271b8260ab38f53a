import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config.js'
import { readTlsFiles } from '../../src/tls-files.js'
import { selfSignedCertificate } from '../helpers/tls.js'

function errorOf (certFile: string, keyFile: string): ConfigError {
  try {
    readTlsFiles({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile })
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('readTlsFiles accepted the files')
}

describe('readTlsFiles', () => {
  it('is undefined without TLS settings', () => {
    expect(readTlsFiles({})).toBeUndefined()
  })

  it('reads a certificate and its key', () => {
    const { certFile, keyFile } = selfSignedCertificate()
    const files = readTlsFiles({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile })
    expect(files?.cert.toString()).toContain('BEGIN CERTIFICATE')
    expect(files?.key.toString()).toContain('PRIVATE KEY')
  })

  it('names TLS_CERT_FILE, or TLS_KEY_FILE, when its file is missing', () => {
    const { certFile, keyFile } = selfSignedCertificate()
    expect(errorOf('/nonexistent/cert.pem', keyFile).message)
      .toBe('Invalid configuration: TLS_CERT_FILE /nonexistent/cert.pem cannot be read (ENOENT)')
    expect(errorOf(certFile, '/nonexistent/key.pem').message)
      .toBe('Invalid configuration: TLS_KEY_FILE /nonexistent/key.pem cannot be read (ENOENT)')
  })

  it('says the two are swapped when they are', () => {
    const { certFile, keyFile } = selfSignedCertificate()
    expect(errorOf(keyFile, certFile).message).toBe(
      `Invalid configuration: TLS_CERT_FILE ${keyFile} holds no PEM certificate, but a private key: are TLS_CERT_FILE and TLS_KEY_FILE swapped?`)
  })

  it('names the file that holds something else, and a key that is not the certificate\'s', () => {
    const { certFile, keyFile } = selfSignedCertificate()
    const other = selfSignedCertificate()
    const garbage = join(mkdtempSync(join(tmpdir(), 'tls-garbage-')), 'notes.txt')
    writeFileSync(garbage, 'not a PEM file\n')

    expect(errorOf(garbage, keyFile).message).toBe(`Invalid configuration: TLS_CERT_FILE ${garbage} holds no PEM certificate`)
    expect(errorOf(certFile, garbage).message).toBe(`Invalid configuration: TLS_KEY_FILE ${garbage} holds no PEM private key without a passphrase`)
    expect(errorOf(certFile, other.keyFile).message)
      .toBe(`Invalid configuration: TLS_KEY_FILE ${other.keyFile} is not the private key of the certificate in TLS_CERT_FILE`)
    // A directory where a file should be.
    expect(errorOf(join(certFile, '..'), keyFile).message).toMatch(/^Invalid configuration: TLS_CERT_FILE \S+ cannot be read \(EISDIR\)$/)
  })
})
