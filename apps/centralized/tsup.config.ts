import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { main: 'src/main.ts', 'demo-services/index': 'src/demo-services/index.ts' },
  format: ['esm'],
  // The demo services are exported (`@gw/app-centralized/demo-services`) for apps/hybrid.
  dts: { entry: { 'demo-services/index': 'src/demo-services/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
})
