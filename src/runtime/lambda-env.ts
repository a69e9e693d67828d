/** The Lambda's configuration source: its environment (set by the CDK stack). */
export function lambdaEnvironment(): Record<string, string | undefined> {
  return { ...process.env };
}
