/**
 * Closes a server the command started on Ctrl-C or a `kill` (SIGINT, SIGTERM), then exits: 0 once it closed, 1 if
 * closing failed. What both emulator commands do when a test or CI stops them.
 */
export function closeOnSignal(server: { close(): Promise<void> }): void {
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
