"""Trains the benchmark MLP with Keras on TensorFlow's CPU build and prints one JSON line of timings.

Reads the data the TypeScript side wrote (float32 features, int32 labels, raw little-endian) so both sides train
on the same rows. Usage: keras_bench.py DATA_DIR ROWS COLS LAYERS(comma) BATCH EPOCHS LR SEED
"""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402


def main() -> None:
    data_dir, rows, cols, layers, batch, epochs, lr, seed = sys.argv[1:9]
    rows, cols, batch, epochs, seed = int(rows), int(cols), int(batch), int(epochs), int(seed)
    units = [int(u) for u in layers.split(",")]
    x = np.fromfile(os.path.join(data_dir, "x.f32"), dtype="<f4").reshape(rows, cols)
    y = np.fromfile(os.path.join(data_dir, "y.i32"), dtype="<i4").astype("float32").reshape(rows, 1)

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(shape=(cols,))]
                             + [keras.layers.Dense(u, activation="relu") for u in units]
                             + [keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=float(lr)), loss="binary_crossentropy",
                  metrics=["accuracy"])

    epoch_seconds = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_seconds.append(time.perf_counter() - self.start)

    history = model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=True, verbose=0, callbacks=[Timer()])
    print(json.dumps({
        "backend": f"keras {keras.__version__} on tensorflow-cpu {tf.__version__} ({keras.backend.backend()})",
        "threads": {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                    "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
                    "cpus": os.cpu_count()},
        "epochSeconds": epoch_seconds,
        "loss": [float(v) for v in history.history["loss"]],
        "accuracy": [float(v) for v in history.history["accuracy"]],
    }))


if __name__ == "__main__":
    main()
