"""The ROS package `llie` without ROS: package.xml, CMakeLists.txt, msg/, launch/, config/, executables, docs."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from llie_core.params import DETECTOR_PARAMS, ENHANCER_PARAMS, QOS_PARAMS, pipeline_params, validate
from llie_ros.launch_helpers import image_remappings, parse_cameras, rviz_config

ROOT = Path(__file__).resolve().parents[1]
LAUNCH = ROOT / "launch"

# The documented arguments of each launch file (docs/ros.md lists the same).
LAUNCH_ARGS = {
    "enhance.launch.py": {"camera", "image", "camera_info", "image_transport", "params_file", "model", "use_sim_time"},
    "enhance_detect.launch.py": {
        "camera",
        "image",
        "camera_info",
        "image_transport",
        "params_file",
        "detector_params_file",
        "pipeline_params_file",
        "model",
        "detector_model",
        "use_pipeline",
        "rviz",
        "use_sim_time",
    },
    "multi_camera.launch.py": {
        "cameras",
        "image",
        "camera_info",
        "image_transport",
        "params_file",
        "detector_params_file",
        "model",
        "detect",
        "detector_model",
        "use_sim_time",
    },
    "bag_replay.launch.py": {
        "bag",
        "rate",
        "loop",
        "start_delay",
        "play_reliability",
        "qos_overrides",
        "detect",
        "camera",
        "image",
        "image_transport",
        "params_file",
        "detector_params_file",
        "pipeline_params_file",
        "model",
        "detector_model",
        "use_pipeline",
        "rviz",
    },
}
NODES = {"enhancer": "enhancer_node", "detector": "detector_node", "pipeline": "pipeline_node"}


# ---------------------------------------------------------------- package.xml and CMakeLists.txt


def test_package_xml_validates_with_catkin_pkg() -> None:
    package = pytest.importorskip("catkin_pkg.package", reason="catkin_pkg validates package.xml")
    pkg = package.parse_package(str(ROOT / "package.xml"))
    pkg.validate()
    assert pkg.name == "llie" and pkg.package_format == 3
    assert pkg.get_build_type() == "ament_cmake"
    build = {d.name for d in pkg.buildtool_depends + pkg.build_depends}
    run = {d.name for d in pkg.exec_depends}
    test = {d.name for d in pkg.test_depends}
    assert {"ament_cmake", "ament_cmake_python", "rosidl_default_generators", "std_msgs"} <= build
    assert {
        "rclpy",
        "sensor_msgs",
        "std_msgs",
        "vision_msgs",
        "diagnostic_msgs",
        "diagnostic_updater",
        "launch_ros",
        "rosidl_default_runtime",
        "python3-numpy",
        "python3-opencv",
        "python3-numba",
        "python3-onnxruntime-pip",
    } <= run
    assert {"ament_lint_auto", "ament_lint_common", "ament_cmake_pytest", "launch_testing_ament_cmake"} <= test
    assert "rosidl_interface_packages" in [g.name for g in pkg.member_of_groups]


def test_cmakelists_generates_installs_and_tests() -> None:
    text = (ROOT / "CMakeLists.txt").read_text()
    for msg in sorted((ROOT / "msg").glob("*.msg")):
        assert f'"msg/{msg.name}"' in text, f"{msg.name} is not generated"
    for package in ("llie_core", "llie_ros"):
        assert f"ament_python_install_package({package})" in text
    for exe in NODES:
        assert f"scripts/{exe}" in text
    assert re.search(r"install\(DIRECTORY launch config\s+DESTINATION share/\$\{PROJECT_NAME\}", text)
    assert "DESTINATION lib/${PROJECT_NAME}" in text and "add_launch_test(test/ros/test_nodes_launch.py" in text
    suites = re.search(r"foreach\(suite ([\w\s]+)\)", text).group(1).split()
    assert {"imgmsg", "ros_logic", "dependencies"} <= set(suites)
    assert all((ROOT / "test" / f"test_{suite}.py").is_file() for suite in suites)
    # lint_cmake (ament_lint_common) rejects lines over 80 characters.
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.parametrize(("exe", "module"), NODES.items())
def test_executables_call_the_node_mains(exe: str, module: str) -> None:
    script = ROOT / "scripts" / exe
    assert os.access(script, os.X_OK), f"{script} is not executable"
    assert script.read_text().startswith("#!/usr/bin/env python3")
    assert f"from llie_ros.{module} import main" in script.read_text()
    tree = ast.parse((ROOT / "llie_ros" / f"{module}.py").read_text())
    assert "main" in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}


# ---------------------------------------------------------------- interfaces


def test_msg_files_parse_and_serialise() -> None:
    pytest.importorskip("rosbags.typesys", reason="rosbags parses .msg files")
    import rosbags_types

    store = rosbags_types.register_llie(rosbags_types.typestore())
    cls = store.types["llie/msg/EnhancementStats"]
    fields = set(cls.__dataclass_fields__) - {"__msgtype__"}
    assert {
        "header",
        "model",
        "backend",
        "input_mean_luminance",
        "output_mean_luminance",
        "applied_gain",
        "curve_mean",
        "latency_ms",
        "frames_received",
        "frames_processed",
        "frames_dropped",
        "frames_failed",
        "frames_lost",
    } <= fields
    msg = cls(
        header=rosbags_types.header(store),
        model="tiny_dce",
        backend="onnxruntime",
        enabled=True,
        gated=False,
        input_mean_luminance=0.1,
        output_mean_luminance=0.4,
        applied_gain=4.0,
        curve_mean=np.array([-0.5, -0.4, -0.45], np.float32),
        latency_ms=3.5,
        frames_received=10,
        frames_processed=8,
        frames_dropped=1,
        frames_failed=1,
        frames_gated=2,
        frames_lost=3,
        last_error="bad step",
    )
    back = store.deserialize_cdr(store.serialize_cdr(msg, cls.__msgtype__), cls.__msgtype__)
    assert back.frames_dropped == 1 and back.model == "tiny_dce" and back.header.stamp.sec == 1_700_000_123
    assert back.frames_lost == 3
    np.testing.assert_allclose(back.curve_mean, [-0.5, -0.4, -0.45])


# ---------------------------------------------------------------- launch files


def declared_arguments(path: Path) -> set[str]:
    """The launch file's NAMES tuple (what it declares and reads), read with ast (no ROS needed)."""
    tuples: dict[str, list[str]] = {}
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple) and len(node.targets) == 1:
            names: list[str] = []
            for element in node.value.elts:
                if isinstance(element, ast.Starred):
                    names += tuples[element.value.id]
                else:
                    assert isinstance(element, ast.Constant), f"{path.name}: argument name not a literal"
                    names.append(element.value)
            tuples[node.targets[0].id] = names
    assert len(tuples["NAMES"]) == len(set(tuples["NAMES"])), f"{path.name}: an argument is named twice"
    return set(tuples["NAMES"])


def test_every_launch_file_is_covered() -> None:
    assert {p.name for p in LAUNCH.glob("*.launch.py")} == set(LAUNCH_ARGS)


@pytest.mark.parametrize("name", sorted(LAUNCH_ARGS))
def test_launch_file_arguments_by_ast(name: str) -> None:
    path = LAUNCH / name
    tree = ast.parse(path.read_text())
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "generate_launch_description" in functions
    assert declared_arguments(path) == LAUNCH_ARGS[name]
    # It declares NAMES and reads the values of NAMES (test_launch_stubbed checks what that produces).
    calls = {
        n.func.id: [a.id for a in n.args if isinstance(a, ast.Name)]
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    assert calls["declare"] == ["NAMES"] and calls["values"] == ["context", "NAMES"]


def _launch_available() -> None:
    # The repository's launch/ folder is itself importable as a namespace package named `launch`,
    # so check for the real library's API rather than for the module name.
    try:
        from launch import LaunchDescription  # noqa: F401
        from launch_ros.actions import Node  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"ROS 2 launch / launch_ros not importable ({exc}); the ast test covers the arguments")


@pytest.mark.parametrize("name", sorted(LAUNCH_ARGS))
def test_launch_file_imports_and_exposes_arguments(name: str) -> None:
    _launch_available()
    from launch.actions import DeclareLaunchArgument

    spec = importlib.util.spec_from_file_location(name.replace(".", "_"), LAUNCH / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    declared = {e.name for e in description.entities if isinstance(e, DeclareLaunchArgument)}
    assert declared == LAUNCH_ARGS[name]


# ---------------------------------------------------------------- configuration


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


@pytest.mark.parametrize(
    ("file", "specs"),
    [
        ("enhancer.yaml", ENHANCER_PARAMS + QOS_PARAMS),
        ("detector.yaml", DETECTOR_PARAMS + QOS_PARAMS),
        ("pipeline.yaml", pipeline_params()),
    ],
)
def test_parameter_yaml_matches_the_nodes(file: str, specs: tuple) -> None:
    data = yaml.safe_load((ROOT / "config" / file).read_text())
    assert list(data) == ["/**"] and list(data["/**"]) == ["ros__parameters"]
    values = _flatten(data["/**"]["ros__parameters"])
    by_name = {s.name: s for s in specs}
    assert set(values) == set(by_name), f"{file}: parameters differ from the node's declarations"
    for name, value in values.items():
        ok, reason = validate(by_name[name], value)
        assert ok, f"{file}: {reason}"
        assert value == by_name[name].default, f"{file}: {name} differs from the node's default"


def test_rviz_config_shows_three_images() -> None:
    data = yaml.safe_load((ROOT / "config" / "llie.rviz").read_text())
    displays = data["Visualization Manager"]["Displays"]
    topics = [d["Topic"]["Value"] for d in displays if d["Class"] == "rviz_default_plugins/Image"]
    assert topics == ["/camera/image_raw", "/camera/enhanced/image_raw", "/camera/detector/annotated"]
    # Without a saved dock layout rviz stacks the image panels in the left column, in no fixed order.
    layout = bytes.fromhex(data["Window Geometry"]["QMainWindow State"])
    docks = [layout.find(d["Name"].encode("utf-16-be")) for d in displays]
    assert -1 not in docks and docks == sorted(docks), "image panels missing from the layout or out of order"


# ---------------------------------------------------------------- docs


def test_docs_list_parameters_topics_and_launch_arguments() -> None:
    doc_path = ROOT / "docs" / "ros.md"
    if not doc_path.is_file():
        pytest.fail("docs/ros.md is missing")
    doc = doc_path.read_text()
    for spec in pipeline_params() + DETECTOR_PARAMS:
        assert f"`{spec.name}`" in doc, f"parameter {spec.name} is not documented"
    for topic in ("enhanced/image_raw", "enhanced/camera_info", "~/stats", "detections", "~/annotated", "/diagnostics"):
        assert f"`{topic}`" in doc, f"topic {topic} is not documented"
    for name, args in LAUNCH_ARGS.items():
        assert name in doc
        for arg in args:
            assert f"`{arg}`" in doc, f"launch argument {arg} of {name} is not documented"


def test_multi_camera_list_parsing() -> None:
    assert parse_cameras("[/front_camera, /rear_camera]") == ["/front_camera", "/rear_camera"]
    assert parse_cameras("front, left ,right") == ["front", "left", "right"]
    with pytest.raises(ValueError, match="names no camera"):
        parse_cameras("[]")
    with pytest.raises(ValueError, match="twice"):
        parse_cameras("a,a")


def test_image_remappings_and_rviz_rewrite() -> None:
    assert image_remappings("/cam0/image_raw/compressed", "camera_info") == [
        ("image_raw", "/cam0/image_raw"),
        ("image_raw/compressed", "/cam0/image_raw/compressed"),
        ("camera_info", "camera_info"),
    ]
    assert image_remappings("color/image_raw") == [  # multi_camera: no camera_info remapping
        ("image_raw", "color/image_raw"),
        ("image_raw/compressed", "color/image_raw/compressed"),
    ]
    path = rviz_config(str(ROOT / "config" / "llie.rviz"), "/front_camera", "pipeline/annotated")
    try:
        data = yaml.safe_load(Path(path).read_text())
    finally:
        os.unlink(path)
    topics = [d["Topic"]["Value"] for d in data["Visualization Manager"]["Displays"]]
    assert topics == ["/front_camera/image_raw", "/front_camera/enhanced/image_raw", "/front_camera/pipeline/annotated"]
