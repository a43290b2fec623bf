import type { Logger } from '@gw/core'

/** A logger that records every entry (bindings merged), for asserting audit events. */
export interface RecordingLogger extends Logger {
  readonly entries: { level: string; msg: string | undefined; fields: Record<string, unknown> }[]
  /** Everything that was logged, serialised: for "the token never appears" assertions. */
  dump(): string
}

export function createRecordingLogger(): RecordingLogger {
  const entries: RecordingLogger['entries'] = []
  const make = (bindings: Record<string, unknown>): Logger => {
    const write =
      (level: string) =>
      (obj: unknown, msg?: string): void => {
        const fields =
          typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>) : { msg: obj }
        entries.push({ level, msg, fields: { ...bindings, ...fields } })
      }
    return {
      level: 'trace',
      fatal: write('fatal'),
      error: write('error'),
      warn: write('warn'),
      info: write('info'),
      debug: write('debug'),
      trace: write('trace'),
      child: (more) => make({ ...bindings, ...more }),
    }
  }
  const root = make({})
  return Object.assign(root, {
    entries,
    dump: () => JSON.stringify(entries, (_k, v) => (v instanceof Error ? { message: v.message } : v)),
  })
}
