// Tests that need root say so: they skip (with a reason) when not root.
// CI runs as root, so there they always run.
export const needsRoot: { skip: string | false } = {
  skip: process.getuid?.() === 0 ? false : 'needs root',
};
