// WGSL sources are imported as text: Vite/Vitest through the `wgsl` plugin in vite.config.ts,
// the Node CLI and the device bundle through esbuild's text loader.
declare module '*.wgsl' {
  const source: string;
  export default source;
}
