import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PROJECT_ROOT } from '../helpers/server-process.js'

const DOCUMENTS = ['README.md', 'postman/README.md']

/** Every line of the shell blocks (```sh) of a Markdown file. */
function shellLines (file: string): string[] {
  const markdown = readFileSync(join(PROJECT_ROOT, file), 'utf8')
  return [...markdown.matchAll(/^```(?:sh|bash|console)\n([\s\S]*?)^```/gm)].flatMap((block) => block[1]!.split('\n'))
}

describe('the shell commands of the READMEs', () => {
  it.each(DOCUMENTS)('%s: work as root, in containers without sudo: no command runs sudo', (file) => {
    const lines = shellLines(file)
    expect(lines.length).toBeGreaterThan(0)
    expect(lines.filter((line) => /(^|[;&|]\s*|\$\s+)sudo\s/.test(line.trim()))).toEqual([])
  })
})
