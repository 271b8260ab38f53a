/**
 * The median round of `rounds` by `cost` (the lower one of the middle two for an even
 * count; a missing cost counts as 0): what every table of the benchmark reports.
 */
export function medianBy<T> (rounds: readonly T[], cost: (round: T) => number | null): T {
  const sorted = [...rounds].sort((a, b) => (cost(a) ?? 0) - (cost(b) ?? 0))
  return sorted[Math.floor((sorted.length - 1) / 2)]!
}
