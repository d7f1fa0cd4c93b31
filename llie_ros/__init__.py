"""llie_ros: the ROS 2 side of llie.

``logic``, ``params`` and ``processing`` are plain Python (tested without ROS); ``*_node`` and ``ros_common``
are the thin rclpy layer on top.
"""
