"""Rosbag tools: make bags from videos or image folders, enhance the image topics of a bag, evaluate models on one."""

from llie_core.bag.io import BagError, enhanced_topic, open_reader, typestore

__all__ = ["BagError", "enhanced_topic", "open_reader", "typestore"]
