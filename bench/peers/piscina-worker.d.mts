export declare function noop(): number;
export declare function sum(xs: Float64Array): number;
export default noop;
