import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/** Imports `*.wgsl` as a string, like esbuild's text loader does for the Node bundles. */
function wgsl(): Plugin {
  return {
    name: 'wgsl-text',
    transform(code, id) {
      if (id.endsWith('.wgsl')) return { code: `export default ${JSON.stringify(code)};`, map: null };
      return undefined;
    },
  };
}

export default defineConfig({
  root: 'app',
  publicDir: '../public',
  plugins: [wgsl(), react()],
  build: { outDir: '../dist', emptyOutDir: true, target: 'es2022' },
  worker: { format: 'es', plugins: () => [wgsl()] },
  server: { fs: { allow: ['..'] } },
});
