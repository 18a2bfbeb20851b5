/** Reading a value from the terminal without echoing it. */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/** Prompts on stderr and reads one line from a TTY stdin without echoing what is typed. */
export function readHidden(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  // A muted output stream: readline echoes typed characters into it, and they go nowhere.
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  return new Promise((resolve) => {
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}
