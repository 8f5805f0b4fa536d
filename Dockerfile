# A tsray node image: the package built from this checkout, the `tsray` command as entrypoint.
# The Kubernetes manifests in deploy/kubernetes/ run it as a head and as worker nodes.
FROM node:20-slim
WORKDIR /opt/tsray
COPY . .
# npm ci builds the package (its prepare script); the dev dependencies stay for tsx drivers.
RUN npm ci
ENTRYPOINT ["node", "/opt/tsray/bin/tsray.mjs"]
CMD ["--help"]
