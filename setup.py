"""pip install of llie_core, llie_ros and the `llie` command (non-ROS use, CI and training)."""

from setuptools import find_packages, setup

EXTRAS = {
    "onnx": ["onnxruntime>=1.17"],
    "torch": ["torch>=2.1", "onnx>=1.15", "onnxscript>=0.1"],
    "detect": ["ultralytics>=8.3", "matplotlib>=3.7"],
    "train": ["torch>=2.1", "pyyaml>=6", "scipy>=1.10", "matplotlib>=3.7"],
    "bag": ["rosbags>=0.10", "mcap>=1.1", "scipy>=1.10", "matplotlib>=3.7"],
    "live": ["foxglove-sdk>=0.30"],  # llie live: Foxglove WebSocket server and MCAP recording
    "fleet": ["ray[client]>=2.9"],  # llie bag eval / eval detect --ray: many bags or shards as Ray tasks (ray:// too)
    "raw": ["rawpy>=0.18"],  # llie enhance on camera RAW files (LibRaw); the ROS nodes never import it
    # websockets and protobuf: the live test's Foxglove client and its decoding of the advertised schemas
    "dev": [
        "pytest>=8",
        "ruff>=0.6",
        "catkin_pkg>=1.0",
        "rosbags>=0.10",
        "mcap>=1.1",
        "scipy>=1.10",
        "websockets>=12",
        "protobuf>=4",
    ],
}
EXTRAS["all"] = sorted({req for reqs in EXTRAS.values() for req in reqs})

setup(
    name="llie",
    version="0.1.0",
    description="Low-light image enhancement for robot perception (Zero-DCE family, classical methods, ROS 2 nodes)",
    python_requires=">=3.10",
    packages=find_packages(include=["llie_core", "llie_core.*", "llie_ros", "llie_ros.*"]),
    package_data={"llie_core": ["weights/*.pth", "weights/*.onnx", "weights/*.yaml", "weights/*.md"]},
    data_files=[("share/llie/msg", ["msg/EnhancementStats.msg"])],
    install_requires=["numpy>=1.24", "opencv-python-headless>=4.8", "tqdm>=4.60", "pyyaml>=6", "numba>=0.59"],
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["llie=llie_core.cli:main"]},
)
