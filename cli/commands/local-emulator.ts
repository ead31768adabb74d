import { startMotoServer } from '../local/moto-server';

/** `rotor local emulator [--port N]`: runs the local AWS emulator (moto) until interrupted. */
export async function localEmulator(options: { readonly port?: string | undefined }): Promise<void> {
  const port = options.port === undefined ? 4566 : Number(options.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`--port must be a TCP port number, got "${options.port}"`);
  }
  const moto = await startMotoServer({ port });
  process.stdout.write(`emulator listening on ${moto.endpoint} (Ctrl-C stops it)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      void moto.stop().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
