"""The GraphQL API: types, queries and mutations over the domain services."""
