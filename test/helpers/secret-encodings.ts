/**
 * The ways a secret may show in a log line: as it is, in hex, as the byte list a Buffer
 * becomes in JSON (`{"type":"Buffer","data":[…]}`), and in base64 or base64url. Base64
 * of a larger buffer encodes the secret differently at each of its three alignments, so
 * each form is the run of whole 3-byte groups that lies inside the secret.
 */
export function encodedForms (secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8')
  const forms = [secret, bytes.toString('hex'), bytes.toString('hex').toUpperCase(), [...bytes].join(',')]
  for (let skip = 0; skip < 3; skip++) {
    const groups = bytes.subarray(skip, skip + Math.floor((bytes.length - skip) / 3) * 3)
    forms.push(groups.toString('base64'), groups.toString('base64url'))
  }
  // Short secrets make short forms, which would match by chance: the tests use long ones.
  return [...new Set(forms)].filter((form) => form.length >= 8)
}

/** The first form of `secret` that `text` holds, or undefined. */
export function findEncodedSecret (text: string, secret: string): string | undefined {
  return encodedForms(secret).find((form) => text.includes(form))
}
