// Types of engine-server.mjs (static server with the strict CSP, for the browser test and benchmark).
export const CSP: string;
export interface StaticServer { url: string; close(): Promise<void> }
export function serveStatic(mounts: Record<string, string>, opts?: { csp?: string | null }): Promise<StaticServer>;
