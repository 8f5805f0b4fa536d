/**
 * `tsray serve build`: the config file of an application as its code defines it, as Ray's
 * `serve build` writes one: Serve's default HTTP options, the application under its import path,
 * and each deployment with the options its code sets (to edit, then `tsray serve deploy`).
 */
import { buildAppSpec } from "./app-spec.js";
import type { ServeDeployConfig } from "./config.js";
import type { Application } from "./deployment.js";
import type { DeploymentOptions } from "./options.js";

export function configOf(app: Application, importPath: string, name = "app1"): ServeDeployConfig {
  const deployments: (DeploymentOptions & { name: string })[] = [];
  buildAppSpec(app, name, "/", (depName, def) => {
    const { name: _codeName, ...options } = def.options;
    deployments.push({ name: depName, ...options });
    return def;
  });
  // The graph is visited depth first, the ingress last: list it first, as it is what the app is.
  deployments.reverse();
  return {
    proxyLocation: "EveryNode",
    http: { host: "127.0.0.1", port: 8000 },
    applications: [{ name, routePrefix: "/", importPath, deployments }],
  };
}
