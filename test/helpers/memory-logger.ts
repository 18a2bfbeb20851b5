/** A `Logger` that keeps every entry (with its child bindings) for assertions. */
import type { Logger } from '../../src/engine/ports.js';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg?: string;
  fields: Record<string, unknown>;
}

export class MemoryLogger implements Logger {
  constructor(
    readonly entries: LogEntry[] = [],
    private readonly bindings: Record<string, unknown> = {},
  ) {}

  debug(obj: object, msg?: string): void {
    this.push('debug', obj, msg);
  }
  info(obj: object, msg?: string): void {
    this.push('info', obj, msg);
  }
  warn(obj: object, msg?: string): void {
    this.push('warn', obj, msg);
  }
  error(obj: object, msg?: string): void {
    this.push('error', obj, msg);
  }
  child(bindings: Record<string, unknown>): Logger {
    return new MemoryLogger(this.entries, { ...this.bindings, ...bindings });
  }

  /** Everything logged, as one string (to assert that no secret leaked). */
  text(): string {
    return JSON.stringify(this.entries);
  }

  private push(level: LogEntry['level'], obj: object, msg?: string): void {
    this.entries.push({ level, ...(msg === undefined ? {} : { msg }), fields: { ...this.bindings, ...(obj as Record<string, unknown>) } });
  }
}
