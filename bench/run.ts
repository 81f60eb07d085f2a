/**
 * Runs every benchmark in turn; each prints JSON lines {workload, impl, ms, ...}.
 * `npm run bench` (all) or `npm run bench -- implicit krylov` (some).
 */
const all = ["ad", "krylov", "implicit", "dense", "denoise", "auto-solver", "strided", "jit"];
const picked = process.argv.slice(2).filter((a) => all.includes(a));
for (const name of picked.length > 0 ? picked : all) {
  const mod = (await import(`./${name}.ts`)) as { main: () => Promise<void> };
  await mod.main();
}
export {};
