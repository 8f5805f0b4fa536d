/** Registers tsx's loader (when `tsx` is true), then the resolve hook that lets generated data:
 * modules import relative and bare specifiers as if they were their scope module. Idempotent. */
export declare function setupModuleLoading(opts: { tsx: boolean }): Promise<void>;
