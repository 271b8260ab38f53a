import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ConfigError, type Config } from './config.js'

export interface TlsFiles {
  cert: Buffer
  key: Buffer
}

/**
 * The certificate and private key of TLS_CERT_FILE and TLS_KEY_FILE (undefined when they
 * are unset), checked before a server exists. A file that is missing or unreadable, holds
 * the wrong kind of PEM (the two swapped, say) or a key that is not the certificate's is a
 * ConfigError of one line naming the variable, where OpenSSL would say only
 * `PEM routines::no start line`.
 */
export function readTlsFiles (config: Pick<Config, 'TLS_CERT_FILE' | 'TLS_KEY_FILE'>): TlsFiles | undefined {
  if (config.TLS_CERT_FILE === undefined || config.TLS_KEY_FILE === undefined) return undefined
  const cert = readSetting('TLS_CERT_FILE', config.TLS_CERT_FILE)
  const key = readSetting('TLS_KEY_FILE', config.TLS_KEY_FILE)

  let certificate: X509Certificate
  try {
    certificate = new X509Certificate(cert)
  } catch {
    throw invalid('TLS_CERT_FILE', config.TLS_CERT_FILE, `holds no PEM certificate${swappedHint(cert, 'PRIVATE KEY')}`)
  }
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(key)
  } catch {
    throw invalid('TLS_KEY_FILE', config.TLS_KEY_FILE, `holds no PEM private key without a passphrase${swappedHint(key, 'CERTIFICATE')}`)
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw invalid('TLS_KEY_FILE', config.TLS_KEY_FILE, 'is not the private key of the certificate in TLS_CERT_FILE')
  }
  return { cert, key }
}

function readSetting (variable: string, path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw invalid(variable, path, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
}

/** What a file of the other kind holds, by its PEM label: the usual mistake is the two swapped. */
function swappedHint (contents: Buffer, otherLabel: string): string {
  return contents.includes(`${otherLabel}-----`) ? `, but a ${otherLabel === 'CERTIFICATE' ? 'certificate' : 'private key'}: are TLS_CERT_FILE and TLS_KEY_FILE swapped?` : ''
}

function invalid (variable: string, path: string, problem: string): ConfigError {
  return new ConfigError(`Invalid configuration: ${variable} ${path} ${problem}`)
}
