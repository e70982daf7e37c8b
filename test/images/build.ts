// Builds (or finds in the cache) every test image; one line per image.
// `node test/images/build.ts` — scripts/test.sh runs it before the suite.
import { isCached, testImage, TEST_IMAGE_NAMES } from './index.ts';

for (const name of TEST_IMAGE_NAMES) {
  if (name === 'nginx' && process.getuid?.() !== 0 && !isCached(name)) {
    console.log(`test-images: ${name}: skipped (building it needs root)`);
    continue;
  }
  const start = Date.now();
  const cached = isCached(name);
  const image = await testImage(name);
  const how = cached ? 'cached' : `built in ${((Date.now() - start) / 1000).toFixed(1)} s`;
  console.log(`test-images: ${image.ref} ${image.configDigest} (${how}) ${image.dir}`);
}
