package io.evoc.evaluator.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;

/** Device names as users write them: {@code cpu}, {@code gpu} (first GPU) or {@code gpu:N}. */
public final class Devices {
  private Devices() {}

  public static Device parse(String name) {
    String n = name.trim().toLowerCase(java.util.Locale.ROOT);
    if (n.equals("cpu")) {
      return Device.cpu();
    }
    if (n.equals("gpu") || n.startsWith("gpu:")) {
      int id;
      try {
        id = n.equals("gpu") ? 0 : Integer.parseInt(n.substring(4));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("device '" + name + "': expected cpu, gpu or gpu:N");
      }
      int gpus = Engine.getEngine("PyTorch").getGpuCount();
      if (id < 0 || id >= gpus) {
        throw new IllegalArgumentException("device '" + name + "' is not available: PyTorch sees "
            + gpus + " GPU(s) (GPU nodes need a CUDA libtorch: README, \"GPU nodes\")");
      }
      return Device.gpu(id);
    }
    throw new IllegalArgumentException("device '" + name + "': expected cpu, gpu or gpu:N");
  }
}
