/** The path of a request URL, without its query string (where a client may have put a secret). */
export function pathOf (url: string): string {
  const queryStart = url.indexOf('?')
  return queryStart === -1 ? url : url.slice(0, queryStart)
}
