package io.evoc.coordinator.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.evoc.protocol.jobs.Blob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Transient blobs (checkpoints): swept when nothing names them, their marks going with them. */
class BlobStoreTest {
  @Test
  void aSweepDeletesTheTransientBlobsNothingNamesAndNothingElse(@TempDir Path dir) throws Exception {
    BlobStore store = new BlobStore(dir.resolve("blobs"));
    Path upload = store.temporary();
    Files.writeString(upload, "an input");
    Blob input = store.put(upload, "model.onnx");
    Blob named = store.putTransient("the checkpoint a job names".getBytes(), "j1-checkpoint");
    Blob orphan = store.putTransient("a checkpoint nothing names".getBytes(), "j2-checkpoint");
    Blob dropped = store.putTransient("a superseded checkpoint".getBytes(), "j1-checkpoint");
    store.delete(dropped);
    assertThat(marks(dir)).containsExactlyInAnyOrder(named.getSha256(), orphan.getSha256());

    assertThat(store.sweepTransient(Set.of(named.getSha256(), input.getSha256()))).containsExactly(orphan.getSha256());
    assertThat(store.find(orphan.getSha256())).isNull();
    assertThat(store.find(named.getSha256())).isNotNull();
    assertThat(store.find(input.getSha256())).as("not transient: never swept").isNotNull();
    assertThat(marks(dir)).containsExactly(named.getSha256());
    assertThat(store.sweepTransient(Set.of())).containsExactly(named.getSha256());
    assertThat(store.find(input.getSha256())).isNotNull();
    assertThat(marks(dir)).isEmpty();
  }

  private static java.util.List<String> marks(Path dir) throws java.io.IOException {
    try (var files = Files.list(dir.resolve("transient"))) {
      return files.map(p -> p.getFileName().toString()).toList();
    }
  }
}
