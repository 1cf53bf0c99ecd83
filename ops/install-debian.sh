#!/usr/bin/env bash
# Installs what evoc needs on a fresh Debian (bookworm) machine, and nothing it already has:
# a JDK 17, Maven, Fashion-MNIST (Debian's dataset-fashion-mnist), promtool (Debian's
# prometheus; the tests check the server's metrics and the alert rules with it) and PostgreSQL's
# server binaries (a test runs the job journal on a private PostgreSQL it starts and stops itself). Maven takes the Java
# libraries, DJL's PyTorch native library and ONNX Runtime from Maven Central at build time.
set -euo pipefail
need=()
command -v javac >/dev/null 2>&1 || need+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
[ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] || need+=(dataset-fashion-mnist)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  echo "install-debian: installing ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
