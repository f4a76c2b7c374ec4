package io.spoke.vertx.examples.task;

import io.spoke.vertx.SerializationException;
import io.spoke.vertx.serialization.Serializer;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;

/**
 * Spoke's {@code PackedSize}/{@code PackTo}/{@code UnpackFrom} for {@link ComplexTask}: the task is written
 * field by field straight into the frame that goes to the socket, and read field by field from the
 * received bytes, with no intermediate array.
 * <pre>
 *   int id | int name length | name (UTF-8) | int count | count x double
 * </pre>
 */
public final class ComplexTaskSerializer implements Serializer<ComplexTask> {

  public static final ComplexTaskSerializer INSTANCE = new ComplexTaskSerializer();

  @Override
  public int sizeHint(ComplexTask task) {
    return 12 + task.name().length() * 3 + task.size() * 8;
  }

  @Override
  public void write(ComplexTask task, Buffer out) {
    byte[] name = task.name().getBytes(StandardCharsets.UTF_8);
    out.appendInt(task.id()).appendInt(name.length).appendBytes(name).appendInt(task.size());
    for (int i = 0; i < task.size(); i++) {
      out.appendDouble(task.valueAt(i));
    }
  }

  @Override
  public ComplexTask read(Buffer view) {
    try {
      int id = view.getInt(0);
      int nameLength = view.getInt(4);
      String name = view.getString(8, 8 + nameLength, "UTF-8");
      int countAt = 8 + nameLength;
      int count = view.getInt(countAt);
      if (count < 0 || countAt + 4 + (long) count * 8 != view.length()) {
        throw new SerializationException("ComplexTask of " + view.length() + " bytes declares " + count + " values");
      }
      double[] values = new double[count];
      for (int i = 0; i < count; i++) {
        values[i] = view.getDouble(countAt + 4 + i * 8);
      }
      return new ComplexTask(id, name, values);
    } catch (IndexOutOfBoundsException e) {
      throw new SerializationException("truncated ComplexTask: " + e.getMessage());
    }
  }
}
