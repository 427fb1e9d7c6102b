/** Two-step verification helpers: which kind of code the user typed, and the QR as an image. */

/** Six digits are an authenticator code; anything else is a recovery code. */
export function factorBody(input: string): { code: string } | { recovery_code: string } {
  const trimmed = input.trim();
  return /^\d{6}$/.test(trimmed.replace(/\s+/g, "")) ? { code: trimmed.replace(/\s+/g, "") } : { recovery_code: trimmed };
}

/**
 * The API's QR (SVG markup meant for inlining) as an image source, never inserted as markup:
 * a standalone SVG image needs its namespace, which inline SVG leaves out.
 */
export function svgSource(svg: string): string {
  const standalone = /^<svg\b[^>]*\sxmlns=/.test(svg) ? svg : svg.replace(/^<svg\b/, '<svg xmlns="http://www.w3.org/2000/svg"');
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(standalone)}`;
}

/** The secret in groups of four, easier to type into an app by hand. */
export function groupSecret(secret: string): string {
  return secret.replace(/\s+/g, "").replace(/(.{4})(?=.)/g, "$1 ");
}
