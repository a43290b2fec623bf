// LOCAL PLACEHOLDER (not committed): the libinjection branch provides the real implementation.
export function detectSqli(_input: string): { sqli: boolean; fingerprint: string } {
  return { sqli: false, fingerprint: '' }
}
export function detectXss(_input: string): boolean {
  return false
}
