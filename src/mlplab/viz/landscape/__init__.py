"""Pictures of 2-D loss landscapes: contours, surfaces, paths, animations, the 3-D page,
tangent lines and gradient fields."""
