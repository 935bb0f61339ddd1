// `viewgate hub plan | apply | refresh`.
export async function hubCommand(args: string[]): Promise<number> {
  void args;
  process.stderr.write('viewgate hub: not available in this build yet\n');
  return 2;
}
