/** The first message the server gave for one form field (zod's field errors in tRPC's error data), if any. */
export function fieldErrorOf(error: { data?: unknown } | null | undefined, field: string): string | undefined {
  const data = error?.data as { zodError?: { fieldErrors?: Record<string, string[] | undefined> } | null } | undefined;
  return data?.zodError?.fieldErrors?.[field]?.[0];
}
